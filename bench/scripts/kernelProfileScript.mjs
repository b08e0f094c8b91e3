// The kernel profile (bench/profileCases.mjs) run inside bn-inspect, on the engine's own tfjs: one line
// `PROFILE_RESULT {json}` on stdout. Started by `node bench/kernelProfile.mjs --engine`.
import * as tf from '@tensorflow/tfjs';
import { profileCases } from '../profileCases.mjs';

const r = await profileCases(tf, { log: (s) => console.error(`[kernelProfile] ${s}`) });
console.log(`PROFILE_RESULT ${JSON.stringify(r)}`);
