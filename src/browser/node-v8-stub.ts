// node:v8 and node:vm as the fast backend imports them (simd.ts, collect.ts), for pages:
// there is no V8 flag to set (a browser ships relaxed SIMD or validation refuses it, and
// simd.ts then takes plain SIMD) and no gc function to reach (the browser collects).
const absent = (what: string) => (): never => {
  throw new Error(`${what} is not available in a page`);
};
export default { setFlagsFromString: absent('v8.setFlagsFromString'), runInNewContext: absent('vm.runInNewContext') };
