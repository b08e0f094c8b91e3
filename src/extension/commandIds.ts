/** The extension's command ids (package.json contributes them; lenses, the panel and the status bar use them). */
export const CMD = {
  openInspector: 'batchnormInspector.openInspector',
  runScript: 'batchnormInspector.runScript',
  runToCursor: 'batchnormInspector.runToCursor',
  runToLine: 'batchnormInspector.runToLine',
  step: 'batchnormInspector.step',
  continue: 'batchnormInspector.continue',
  restart: 'batchnormInspector.restart',
  stop: 'batchnormInspector.stop',
  exportSnapshots: 'batchnormInspector.exportSnapshots',
  trustWorkspace: 'batchnormInspector.trustWorkspace',
  pickSemantics: 'batchnormInspector.pickSemantics',
  compare: 'batchnormInspector.compare',
  stopCompare: 'batchnormInspector.stopCompare',
} as const;
