/**
 * The charts' colours and font, read from computed CSS variables (media/inspector.css maps them to --vscode-*),
 * so light, dark and high-contrast themes are followed; the panel reads them again when VS Code switches theme.
 */
export interface ChartTheme {
  fg: string;
  muted: string;
  grid: string;
  bg: string;
  moving: string;
  batch: string;
  gamma: string;
  beta: string;
  changed: string;
  font: string;
  highContrast: boolean;
}

export function readTheme(): ChartTheme {
  const cs = getComputedStyle(document.body);
  const v = (name: string, fallback: string) => cs.getPropertyValue(name).trim() || fallback;
  const family = v('--vscode-font-family', 'system-ui, sans-serif');
  return {
    fg: v('--bn-chart-fg', '#888'),
    muted: v('--bn-chart-muted', '#888'),
    grid: v('--bn-chart-grid', 'rgba(128,128,128,0.35)'),
    bg: v('--vscode-editor-background', 'transparent'),
    moving: v('--bn-chart-moving', '#3794ff'),
    batch: v('--bn-chart-batch', '#d18616'),
    gamma: v('--bn-chart-gamma', '#89d185'),
    beta: v('--bn-chart-beta', '#b180d7'),
    changed: v('--bn-chart-changed', '#f14c4c'),
    font: `10px ${family}`,
    highContrast:
      document.body.classList.contains('vscode-high-contrast') ||
      document.body.classList.contains('vscode-high-contrast-light'),
  };
}
