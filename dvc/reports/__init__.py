"""Reports: the live dashboard, the daily report (日報), open data and exports."""
