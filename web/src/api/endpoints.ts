// Every REST path the web UI calls, in one place (under /api/v1 on the same origin).
import { API_PREFIX } from '../../../proto/api-prefix';
import type { RolloutAction } from '../../../proto/rollouts';

const seg = (value: string) => encodeURIComponent(value);

export const endpoints = {
  login: `${API_PREFIX}/auth/login`,
  logout: `${API_PREFIX}/auth/logout`,
  whoami: `${API_PREFIX}/auth/whoami`,
  nodes: `${API_PREFIX}/nodes`,
  nodesLive: `${API_PREFIX}/nodes/live`,
  node: (name: string) => `${API_PREFIX}/nodes/${seg(name)}`,
  nodeMetrics: (name: string) => `${API_PREFIX}/nodes/${seg(name)}/metrics`,
  tasks: `${API_PREFIX}/tasks`,
  task: (id: string) => `${API_PREFIX}/tasks/${seg(id)}`,
  taskSummary: (id: string) => `${API_PREFIX}/tasks/${seg(id)}/summary`,
  taskRuns: (id: string) => `${API_PREFIX}/tasks/${seg(id)}/runs`,
  taskOutput: (id: string) => `${API_PREFIX}/tasks/${seg(id)}/output`,
  taskEvents: (id: string) => `${API_PREFIX}/tasks/${seg(id)}/events`,
  taskCancel: (id: string) => `${API_PREFIX}/tasks/${seg(id)}/cancel`,
  templates: `${API_PREFIX}/templates`,
  template: (name: string) => `${API_PREFIX}/templates/${seg(name)}`,
  schedules: `${API_PREFIX}/schedules`,
  schedule: (name: string) => `${API_PREFIX}/schedules/${seg(name)}`,
  releases: `${API_PREFIX}/releases`,
  release: (version: string) => `${API_PREFIX}/releases/${seg(version)}`,
  rollouts: `${API_PREFIX}/rollouts`,
  rollout: (id: string) => `${API_PREFIX}/rollouts/${seg(id)}`,
  rolloutAction: (id: string, verb: RolloutAction) => `${API_PREFIX}/rollouts/${seg(id)}/${verb}`,
  events: `${API_PREFIX}/events`,
  audit: `${API_PREFIX}/audit`,
} as const;
