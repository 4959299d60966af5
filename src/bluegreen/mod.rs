//! Blue-green planner (to come).
