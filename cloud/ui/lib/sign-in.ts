/** The sign-in screen: a browser wallet signs the node's SIWE message; the first owner adds the one-time code. */
import { ApiError, type Me, type NodeInfo } from './api.ts';
import { errorText } from './dialogs.ts';
import { type Child, field, fill, h } from './dom.ts';
import { icon } from './icons.ts';
import { browserWallet, signInWithWallet } from './wallet.ts';

/** The centred card of the sign-in screen (and of the node-unreachable message). */
export const card = (...children: Child[]): HTMLElement =>
  h('main', { class: 'signin' }, h('div', { class: 'signin-card' }, children));

export function renderSignIn(
  root: HTMLElement,
  node: NodeInfo,
  onSignedIn: (me: Me) => void,
  notice?: string,
): void {
  const host = node.signIn.domain;
  const wallet = browserWallet();
  const error = h('p', { class: 'form-error', role: 'alert' }, notice ?? '');
  const code = h('input', {
    type: 'text',
    name: 'owner-code',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'XXXXX-XXXXX-XXXXX-XXXXX',
    class: 'mono',
  });
  const button = h(
    'button',
    { type: 'submit', class: 'btn primary big', disabled: !wallet },
    icon('wallet'),
    'Sign in with your wallet',
  );
  const form = h(
    'form',
    { class: 'signin-form', novalidate: true },
    node.claimed
      ? null
      : h(
          'div',
          { class: 'claim' },
          h(
            'p',
            null,
            h('strong', null, 'This node has no owner yet. '),
            'Enter the one-time code that ',
            h('code', null, 'pc2 node'),
            ' printed when it started: the wallet that signs in with it becomes the owner.',
          ),
          field('Owner code', code),
        ),
    button,
    error,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!wallet) return;
    error.textContent = '';
    button.disabled = true;
    fill(button, icon('wallet'), 'Waiting for your wallet…');
    try {
      onSignedIn(await signInWithWallet(wallet, code.value.trim() || undefined));
    } catch (err) {
      const owner = err instanceof ApiError && err.code === 'OWNER_CODE_REQUIRED';
      const stranger = err instanceof ApiError && err.code === 'FORBIDDEN';
      error.textContent = owner
        ? 'This node has no owner yet: the owner code is needed (or it was wrong).'
        : stranger
          ? 'This wallet is not a member of this node. Ask its owner to add your address.'
          : errorText(err);
      button.disabled = false;
      fill(button, icon('wallet'), 'Sign in with your wallet');
    }
  });
  fill(
    root,
    card(
      h('div', { class: 'brand big' }, icon('cloud', 'icon brand-mark'), h('span', null, 'PC2')),
      h('h1', null, 'Sign in to ', h('span', { class: 'host' }, host)),
      h(
        'p',
        { class: 'lead' },
        'Your files, shares and WebDAV drive on a node you own. Your wallet proves who you are: no password is sent.',
      ),
      form,
      wallet
        ? null
        : h(
            'div',
            { class: 'notice' },
            icon('alert'),
            h(
              'p',
              null,
              'No browser wallet was found. Install or unlock an Ethereum wallet extension (one that supports EIP-1193) and reload this page. WebDAV clients sign in with an app password instead.',
            ),
          ),
      h(
        'p',
        { class: 'fineprint' },
        'Signing does not cost anything and sends no transaction. It only signs a one-time sign-in message for ',
        h('span', { class: 'mono' }, host),
        '.',
      ),
    ),
  );
  (node.claimed ? button : code).focus();
}
