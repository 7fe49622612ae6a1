export * from './aliases.js';
export * from './import.js';
export * from './read.js';
export * from './experiment.js';
