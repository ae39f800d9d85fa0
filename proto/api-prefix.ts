// Where the REST API lives on the manager. Its own file, free of imports, so the web UI takes it
// without the TypeBox schemas of proto/rest (re-exported by proto/rest/common.ts).
export const API_PREFIX = '/api/v1';
