/** The start screen: what to do when no script is running. */
import { el, icon } from './dom';

export function buildStartScreen(): HTMLElement {
  const s = el('section', 'start');
  s.setAttribute('aria-label', 'How to begin');
  const h = el('h1', null);
  h.append(icon('pulse'), el('span', null, ' BatchNorm Inspector'));
  const p = el('p', null, 'No script is running. To see what every BatchNormalization layer does, step by step:');
  const ol = el('ol');
  const li1 = el('li');
  li1.append(
    el('span', null, 'Open a TypeScript or JavaScript file that uses '),
    el('code', null, '@tensorflow/tfjs'),
    el('span', null, ', for example '),
    el('code', null, 'examples/frozen-predict.ts'),
    el('span', null, ' or another script in the '),
    el('code', null, 'examples/'),
    el('span', null, ' folder.'),
  );
  const li2 = el('li');
  li2.append(
    el('span', null, 'Click '),
    el('strong', null, '▶ Run until this statement finishes'),
    el('span', null, ' above a '),
    el('code', null, 'fit'),
    el('span', null, ', '),
    el('code', null, 'predict'),
    el('span', null, ' or '),
    el('code', null, 'apply'),
    el('span', null, ' line (or a line after a '),
    el('code', null, '// @step'),
    el('span', null, ' comment).'),
  );
  const li3 = el(
    'li',
    null,
    'This panel then shows each layer after that step: the mode it ran in, which statistics it used, what changed, and why. Step, Run to cursor, Restart and Stop move through the script.',
  );
  ol.append(li1, li2, li3);
  s.append(h, p, ol);
  return s;
}
