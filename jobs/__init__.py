"""Jobs: what runs without a person, composed from forecasting and governance.

forecasting and governance do not import each other; what one needs of the other is composed
here (`pipeline`), the command-line jobs (`commands`) open the warehouse, report progress
and turn errors into one line and an exit code, and the live feeds (`live`) run beside them.
"""
