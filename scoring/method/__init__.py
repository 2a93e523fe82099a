"""The method, pure: scheme model, periods, working-day calendar, rule kinds, the scoring engine and its explanations. No I/O."""
