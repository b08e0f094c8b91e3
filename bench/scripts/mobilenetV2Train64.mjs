// Goal script (issue 11): MobileNetV2 (52 BN), 64x64x3, batch 8, every layer trainable, 2 training steps in one fit.
import * as tf from '@tensorflow/tfjs';
import { buildMobileNetV2, makeBatch, trainSteps } from '../mobilenetV2.mjs';
import { runBenchScript } from './benchScript.mjs';

const model = buildMobileNetV2(tf, { inputSize: 64, classes: 10, frozenBackbone: false, seed: 1 });
const { x, y } = makeBatch(tf, { inputSize: 64, batch: 8, classes: 10, seed: 7 });
await runBenchScript(tf, { name: 'mobilenetV2Train64', train: () => trainSteps(model, x, y, { steps: 2 }) });
