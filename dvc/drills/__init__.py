"""Drills (訓練): scenario files, the deterministic replay engine and drill metrics.

Pure: plain dataclasses in, values out, an explicit `now`; nothing here imports Flask or
SQLAlchemy. The app turns rows into these values (and delivered items into rows) elsewhere.

- `scenario`: load and check a scenario file (drills/*.yaml) against scenario.schema.json.
- `replay`: expand a scenario into timed deliveries; what is due; which contingencies fire.
- `metrics`: queue, dispatch, backlog and response metrics from an event list; P/S/M/U.
"""
