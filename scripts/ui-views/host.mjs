// The host of scripts/ui-views.sh: a page that embeds one food-mcp view in a sandboxed iframe and
// speaks the host side of the MCP Apps bridge with the official implementation (AppBridge and
// PostMessageTransport of @modelcontextprotocol/ext-apps), as a web host does. run.mjs bundles this
// file for the browser with esbuild and calls window.mountView() with a real tool call and result.
import { AppBridge, PostMessageTransport } from '@modelcontextprotocol/ext-apps/app-bridge';

const HOST_INFO = { name: 'food-mcp ui-views harness', version: '1' };

let bridge;
let context;

/** Loads the view at `viewUrl` and, once it has initialized, sends the tool input and result.
 *  Resolves with what the view told the host about itself. */
window.mountView = async ({ viewUrl, toolInput, toolResult, hostContext }) => {
  const frame = document.createElement('iframe');
  // As strict as a host can be: scripts only, an opaque origin, no forms, popups or navigation.
  frame.setAttribute('sandbox', 'allow-scripts');
  frame.title = 'food-mcp view';
  document.body.append(frame);

  context = hostContext;
  bridge = new AppBridge(null, HOST_INFO, { openLinks: {}, logging: {} }, { hostContext });
  const sizes = [];
  bridge.onsizechange = ({ width, height }) => {
    sizes.push({ width, height });
    if (typeof height === 'number') frame.style.height = `${height}px`;
  };
  const initialized = new Promise((resolve) => {
    bridge.oninitialized = resolve;
  });
  // The transport listens before the view loads: its ui/initialize is the first message.
  await bridge.connect(new PostMessageTransport(frame.contentWindow, frame.contentWindow));
  frame.src = viewUrl;
  await initialized;
  await bridge.sendToolInput({ arguments: toolInput });
  await bridge.sendToolResult(toolResult);
  window.viewSizes = sizes;
  return { appInfo: bridge.getAppVersion(), appCapabilities: bridge.getAppCapabilities() };
};

/** A host theme toggle: ui/notifications/host-context-changed with the new theme. */
window.setHostTheme = (theme) => {
  context = { ...context, theme };
  bridge.setHostContext(context);
};
