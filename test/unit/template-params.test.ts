// Template parameters: the `--param` syntax, definitions as stored, and the values of a run turned
// into OPS_PARAM_* variables (never into the script's text).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  checkParamDefinitions, formatParam, paramEnv, paramEnvName, parseParamSpec, TemplateParamError, type TemplateParam,
} from '../../proto/template-params.js';

const refused = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (e: Error) => e instanceof TemplateParamError && pattern.test(e.message), String(pattern));

test('--param specs: types, defaults, enums; a bare name is a required string', () => {
  assert.equal(parseParamSpec('name'), { name: 'name', type: 'string', required: true });
  assert.equal(parseParamSpec('name:string'), { name: 'name', type: 'string', required: true });
  assert.equal(parseParamSpec('count:int=3'), { name: 'count', type: 'int', default: '3', required: false });
  assert.equal(parseParamSpec('dry_run:bool=yes'), { name: 'dry_run', type: 'bool', default: 'true', required: false });
  assert.equal(parseParamSpec('env:enum(prod,staging)'), { name: 'env', type: 'enum', values: ['prod', 'staging'], required: true });
  assert.equal(parseParamSpec('env:enum(prod, staging)=staging'), { name: 'env', type: 'enum', values: ['prod', 'staging'], default: 'staging', required: false });
  assert.equal(parseParamSpec('msg:string=a=b c'), { name: 'msg', type: 'string', default: 'a=b c', required: false });
  assert.equal(parseParamSpec('empty:string='), { name: 'empty', type: 'string', default: '', required: false });
});

test('--param specs that are wrong say which parameter and why', () => {
  refused(() => parseParamSpec('count:integer'), /count: unknown type "integer"/);
  refused(() => parseParamSpec('count:int=three'), /count: default "three" is not an integer/);
  refused(() => parseParamSpec('flag:bool=maybe'), /flag: default "maybe" is not a boolean/);
  refused(() => parseParamSpec('env:enum(prod,staging)=dev'), /env: default "dev" is not one of prod, staging/);
  refused(() => parseParamSpec('env:enum()'), /env: enum values/);
  refused(() => parseParamSpec('env:enum(a,a)'), /listed twice/);
  refused(() => parseParamSpec('1st:int'), /"1st": a name is letters/);
  refused(() => parseParamSpec(':int'), /"": a name is letters/);
  refused(() => parseParamSpec('a-b'), /"a-b": a name/);
});

test('definitions: `required` follows from the default; two names for one variable are refused', () => {
  assert.equal(checkParamDefinitions([{ name: 'n', type: 'int', default: ' 07 ', required: true }]), [{ name: 'n', type: 'int', default: '7', required: false }]);
  refused(() => checkParamDefinitions([{ name: 'count', type: 'int' }, { name: 'COUNT', type: 'string' }]), /count and COUNT would both be OPS_PARAM_COUNT/);
  refused(() => checkParamDefinitions([{ name: 'x', type: 'int', values: ['1'] }]), /only enum parameters list values/);
});

test('formatParam writes what parseParamSpec reads', () => {
  for (const spec of ['name:string', 'count:int=3', 'env:enum(prod,staging)=prod', 'b:bool=false']) assert.is(formatParam(parseParamSpec(spec)), spec);
});

const params: TemplateParam[] = ['name', 'count:int=3', 'env:enum(prod,staging)', 'verbose:bool=false'].map(parseParamSpec);

test('values become OPS_PARAM_<NAME>, defaults filled in, types normalised', () => {
  assert.is(paramEnvName('count'), 'OPS_PARAM_COUNT');
  assert.equal(paramEnv(params, { name: 'x; rm -rf /', env: 'prod', count: '5', verbose: 'YES' }), {
    OPS_PARAM_NAME: 'x; rm -rf /', OPS_PARAM_COUNT: '5', OPS_PARAM_ENV: 'prod', OPS_PARAM_VERBOSE: 'true',
  });
  assert.equal(paramEnv(params, { name: '', env: 'staging' }), { OPS_PARAM_NAME: '', OPS_PARAM_COUNT: '3', OPS_PARAM_ENV: 'staging', OPS_PARAM_VERBOSE: 'false' });
  assert.equal(paramEnv([], {}), {});
});

test('unknown, missing, mistyped and disallowed values are refused naming the parameter', () => {
  refused(() => paramEnv(params, { name: 'a', env: 'prod', colour: 'red' }), /unknown parameter colour \(the template takes: name, count, env, verbose\)/);
  refused(() => paramEnv([], { x: '1' }), /unknown parameter x \(the template takes: none\)/);
  refused(() => paramEnv(params, { env: 'prod' }), /parameter name is required \(name:string\)/);
  refused(() => paramEnv(params, { name: 'a', env: 'prod', count: '5x' }), /parameter count: value "5x" is not an integer/);
  refused(() => paramEnv(params, { name: 'a', env: 'prod', count: '1.5' }), /parameter count: value "1.5" is not an integer/);
  refused(() => paramEnv(params, { name: 'a', env: 'dev' }), /parameter env: value "dev" is not one of prod, staging/);
  refused(() => paramEnv(params, { name: 'a', env: 'prod', verbose: 'maybe' }), /parameter verbose: value "maybe" is not a boolean/);
});

test.run();
