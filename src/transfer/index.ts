export * from './aliases.js';
export * from './import.js';
