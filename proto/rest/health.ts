// REST bodies of /health (TypeBox): the manager validates, serialises and documents (OpenAPI) with
// them; opsctl and the web import only the types, which cost nothing at run time.
import { Type, type Static } from '@sinclair/typebox';

export const HealthResponse = Type.Object({
  status: Type.Literal('ok'),
  version: Type.String(),
});
export type HealthResponse = Static<typeof HealthResponse>;
