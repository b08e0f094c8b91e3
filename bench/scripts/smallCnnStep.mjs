// Goal script (issue 11): the small CNN of bench/cnnTrainStep.mjs (4 x conv 3x3x16 + BN, 32x32x3, batch 32), one
// training step (one fit of one batch).
import * as tf from '@tensorflow/tfjs';
import { buildCnn, cnnBatch } from '../cnnTrainStep.mjs';
import { trainSteps } from '../mobilenetV2.mjs';
import { runBenchScript } from './benchScript.mjs';

const { model } = buildCnn(tf, { seed: 1 });
const { x, y } = cnnBatch(tf, 7);
await runBenchScript(tf, { name: 'smallCnnStep', train: () => trainSteps(model, x, y, { steps: 1 }) });
