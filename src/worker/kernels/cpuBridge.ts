/**
 * A wasm kernel that tfjs-backend-wasm lacks, run by the cpu backend's kernel of the same name: inputs copied
 * to cpu, outputs copied back (UnsortedSegmentSum, Einsum, the Ragged kernels, StaticRegexReplace).
 */
import type { AnyBackend, KernelFunc, TInfo } from './kernelOps';

type TF = typeof import('@tensorflow/tfjs');

/** A wasm kernel that runs the cpu backend's kernel: inputs copied to cpu, outputs copied back. */
export function cpuBridge(tf: TF, kernelName: string): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const cpuKernel = tf.getKernel(kernelName, 'cpu');
    const cpu = tf.engine().findBackend('cpu') as AnyBackend;
    if (!cpuKernel || !cpu) throw new Error(`Kernel '${kernelName}' not registered for backend '${backend}' nor 'cpu'`);
    if (cpu.firstUse === true) cpu.firstUse = false; // no "install tfjs-node" banner from a helper backend
    const made: TInfo[] = [];
    try {
      // some kernels (Einsum) take an array of inputs
      const toCpu = (t: TInfo): TInfo => {
        const c = cpu.makeTensorInfo(t.shape, t.dtype, backend.readSync(t.dataId)) as TInfo;
        made.push(c);
        return c;
      };
      const cpuInputs = Array.isArray(inputs)
        ? (inputs as TInfo[]).map(toCpu)
        : Object.fromEntries(
            Object.entries(inputs)
              .filter(([, t]) => t != null)
              .map(([k, t]) => [k, toCpu(t)]),
          );
      const res = cpuKernel.kernelFunc({ inputs: cpuInputs, backend: cpu, attrs: attrs ?? {} } as never) as
        TInfo | TInfo[];
      const outs = Array.isArray(res) ? res : [res];
      made.push(...outs);
      const back = outs.map((o) => backend.makeOutput(o.shape, o.dtype, undefined, cpu.readSync(o.dataId)) as TInfo);
      return Array.isArray(res) ? back : back[0];
    } finally {
      for (const t of made) cpu.disposeData(t.dataId, true);
    }
  };
}
