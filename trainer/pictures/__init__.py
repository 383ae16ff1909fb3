"""Pictures of runs and curves (matplotlib, optional) and the loss sparkline of the terminal summary."""
