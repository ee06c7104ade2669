import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import 'graphiql/graphiql.css';
import './playground.css';

// GraphiQL for admins, bundled by src/playground/build.js and served by the service itself: no CDN, so it
// works offline and where data-residency rules forbid third-party origins. Browser code (DOM, JSX), so it
// stays out of the service's tsc programme; esbuild compiles it.

// The page is served where the API answers (GET /graphql), so post back to the same path.
const endpoint = window.location.pathname;

async function fetcher(params, options) {
  const response = await fetch(endpoint, {
    method: 'POST',
    // application/json is what Apollo's CSRF prevention accepts; the headers editor supplies Authorization.
    headers: { ...options?.headers, 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(params),
    // The bearer token is the only credential: never send cookies along.
    credentials: 'omit',
  });
  return response.json();
}

// GraphiQL keeps its history, tabs, query and variables in localStorage unless given another storage, and
// those hold whatever was typed: a key pasted into a mutation, a token in a header. On a shared browser
// they would outlive the tab, so this storage keeps nothing and every load starts afresh. (The editors
// hold their text in React state while the page is open; only persistence is lost.)
const noStorage = {
  getItem: () => null,
  setItem: () => {},
  removeItem: () => {},
  clear: () => {},
  length: 0,
};

// Anonymous on purpose: GraphiQL sends the operation name it last parsed, so a named default would be
// sent along with a query typed over it in a hurry, and Apollo rejects an unknown operation name.
const defaultQuery = `# Token: in the Headers tab below, after "Bearer ".
# Run: Ctrl+Enter or the run button.

{
  me { userId accountId role plan }
}
`;

createRoot(document.getElementById('playground')).render(
  <GraphiQL
    fetcher={fetcher}
    defaultQuery={defaultQuery}
    defaultHeaders={'{\n  "Authorization": "Bearer "\n}'}
    isHeadersEditorEnabled
    defaultEditorToolsVisibility="headers"
    storage={noStorage}
    // Belt and braces: even a storage that kept things would not be handed the headers editor.
    shouldPersistHeaders={false}
  />,
);
