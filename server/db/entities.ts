// Every entity of the manager, in one list for the ORM and the migration generator.
import { EnrollmentTokenSchema } from '../modules/enrollment-tokens/enrollment-token.entity.js';
import { MetricSampleSchema } from '../modules/nodes/metric-sample.entity.js';
import { NodeSchema } from '../modules/nodes/node.entity.js';
import { TaskRunSchema } from '../modules/tasks/task-run.entity.js';
import { TaskSchema } from '../modules/tasks/task.entity.js';
import { UserSchema } from '../modules/users/user.entity.js';

export const ENTITIES = [UserSchema, NodeSchema, MetricSampleSchema, EnrollmentTokenSchema, TaskSchema, TaskRunSchema];
