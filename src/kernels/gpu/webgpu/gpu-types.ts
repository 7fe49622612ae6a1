// The few WebGPU types this backend uses, declared here so that it type-checks without the
// optional `webgpu` package (and its @webgpu/types) installed. A subset of the WebGPU IDL.
export interface GPUBuffer {
  readonly size: number;
  mapAsync(mode: number, offset?: number, size?: number): Promise<void>;
  getMappedRange(offset?: number, size?: number): ArrayBuffer;
  unmap(): void;
  destroy(): void;
}
export type GPUBindGroupLayout = object;
export type GPUComputePipeline = object;
export type GPUCommandBuffer = object;
export interface GPUError {
  readonly message: string;
}
export interface GPUComputePassEncoder {
  setPipeline(p: GPUComputePipeline): void;
  setBindGroup(index: number, g: object): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  end(): void;
}
export interface GPUCommandEncoder {
  beginComputePass(d?: { label?: string }): GPUComputePassEncoder;
  copyBufferToBuffer(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): void;
  clearBuffer(b: GPUBuffer, offset?: number, size?: number): void;
  finish(): GPUCommandBuffer;
}
export interface GPUDevice {
  readonly limits: Record<string, number>;
  readonly queue: {
    submit(cbs: GPUCommandBuffer[]): void;
    writeBuffer(b: GPUBuffer, offset: number, data: ArrayBufferLike | ArrayBufferView, dataOffset?: number, size?: number): void;
    onSubmittedWorkDone(): Promise<void>;
  };
  createBuffer(d: { size: number; usage: number; mappedAtCreation?: boolean }): GPUBuffer;
  createBindGroupLayout(d: { entries: { binding: number; visibility: number; buffer: { type: 'uniform' | 'storage' | 'read-only-storage' } }[] }): GPUBindGroupLayout;
  createPipelineLayout(d: { bindGroupLayouts: GPUBindGroupLayout[] }): object;
  createShaderModule(d: { code: string; label?: string }): object;
  createComputePipeline(d: { layout: object | 'auto'; compute: { module: object; entryPoint: string } }): GPUComputePipeline;
  createBindGroup(d: { layout: GPUBindGroupLayout; entries: { binding: number; resource: { buffer: GPUBuffer; offset?: number; size?: number } }[] }): object;
  createCommandEncoder(): GPUCommandEncoder;
  pushErrorScope(filter: 'validation' | 'out-of-memory' | 'internal'): void;
  popErrorScope(): Promise<GPUError | null>;
  addEventListener?(type: 'uncapturederror', f: (e: { error: GPUError }) => void): void;
  readonly lost?: Promise<{ reason?: string; message?: string }>;
  destroy(): void;
}
export interface GPUAdapter {
  readonly info: { vendor: string; architecture: string; device: string; description: string; backendType?: string; isFallbackAdapter?: boolean; type?: string };
  readonly limits: Record<string, number>;
  readonly featureLevel?: string;
  readonly isFallbackAdapter?: boolean;
  requestDevice(d?: { requiredLimits?: Record<string, number> }): Promise<GPUDevice>;
}
export interface GPU {
  requestAdapter(o?: { featureLevel?: string; powerPreference?: string }): Promise<GPUAdapter | null>;
}
