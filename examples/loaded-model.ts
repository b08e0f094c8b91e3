// A MODEL SAVED AND LOADED AGAIN (tf.loadLayersModel): its BatchNormalization layer is instrumented too.
//
// What to look at:
//   - step 1 (predict with the original): movingMean/movingVariance as trained (updates 0 in this step);
//   - step 2 (predict with the loaded copy): a second layer (the copy's) with the same moving statistics,
//     a path under the loaded model, and lastCall of its own.
import * as tf from '@tensorflow/tfjs';

const model = tf.sequential({ layers: [tf.layers.batchNormalization({ inputShape: [4], name: 'bn' })] });
model.apply(tf.randomNormal([32, 4], 3, 2, 'float32', 9), { training: true });

let artifacts: tf.io.ModelArtifacts | null = null;
await model.save(
  tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }),
);
const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));

const x = tf.ones([2, 4]);
model.predict(x);
loaded.predict(x);
console.log('loaded model layers:', loaded.layers.map((l) => l.name).join(', '));
