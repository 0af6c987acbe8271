"""Jobs: what runs without a person (the worker, live feeds), composed from forecasting and governance."""
