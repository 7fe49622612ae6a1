// Optimizers and learning-rate schedules with neon's semantics (neon/optimizers/optimizer.py; docs/neon-notes.md).
export { Schedule, StepSchedule, PowerSchedule, ExpSchedule, PolySchedule, scheduleFromDescription, type LearningRateSchedule, type ScheduleDescription, type Json } from './schedule.js';
export { isOptimizer, type Optimizer, type OptimizerDescription } from './optimizer.js';
export { GradientDescentMomentum, type GradientDescentMomentumOptions } from './gdm.js';
export { MultiOptimizer } from './multi.js';
export { optimizerFromDescription } from './describe.js';
