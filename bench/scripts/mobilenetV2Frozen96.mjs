// Goal script (issue 11): MobileNetV2 (52 BN), 96x96x3, batch 8, backbone frozen (a new dense head trains),
// 2 training steps in one fit.
import * as tf from '@tensorflow/tfjs';
import { buildMobileNetV2, makeBatch, trainSteps } from '../mobilenetV2.mjs';
import { runBenchScript } from './benchScript.mjs';

const model = buildMobileNetV2(tf, { inputSize: 96, classes: 10, frozenBackbone: true, seed: 1 });
const { x, y } = makeBatch(tf, { inputSize: 96, batch: 8, classes: 10, seed: 7 });
await runBenchScript(tf, { name: 'mobilenetV2Frozen96', train: () => trainSteps(model, x, y, { steps: 2 }) });
