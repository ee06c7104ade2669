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
    // Tokens stay out of localStorage: a shared browser must not keep an admin's bearer token.
    shouldPersistHeaders={false}
  />,
);
