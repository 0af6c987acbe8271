"""What the operations pages show (downtime & maintenance, inventory & supply, schedule risk),
assembled from cached scoped reads (`reads`, over `data_access.operations`) and the KPI module.

One module per page builds a frozen view (`downtime.downtime_view`, `inventory.inventory_view`,
`schedule.schedule_view`): every frame in it is complete (what its table's CSV exports) and
already scoped to the user's plants by the queries below it. KPI columns that can be undefined
(a ratio without denominator) get a `<key>_text` twin in words ("no failure", "no demand"),
which the tables show instead of an empty or NaN cell. `common` holds what the three share.
"""
