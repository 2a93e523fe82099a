"""The method, pure: scheme model, periods, working-day calendar, rule kinds, the scoring engine and its explanations. No I/O."""

# lost points (a gap, a finding's loss) above this count; below it they are floating-point noise
LOST = 1e-12
