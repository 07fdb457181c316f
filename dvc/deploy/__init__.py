"""The field laptop: HTTPS on the local network, the offline basemap, the CA page."""
