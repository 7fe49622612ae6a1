// The data layer: neon's HDF5 iterators, in-memory iterators, built-in data, prepare.
export * from './iterator.js';
export * from './hdf5.js';
export * from './h5write.js';
export * from './builtin.js';
export * from './image.js';
export * from './mat5.js';
export * from './prepare/index.js';
