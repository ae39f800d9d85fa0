import type { LoginResponse, Whoami } from '../../../proto/rest/auth';
import { endpoints } from './endpoints';
import { get, request } from './request';

export const authApi = {
  login: (username: string, password: string) =>
    request<LoginResponse>('POST', endpoints.login, { body: { username, password }, anonymous: true }),
  logout: () => request<null>('POST', endpoints.logout),
  whoami: () => get<Whoami>(endpoints.whoami),
};
