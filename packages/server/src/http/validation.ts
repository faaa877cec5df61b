/**
 * Schema validation with Ajv, compiled once per schema. Failures become one `extraDetails` entry per
 * field, worded like the platform's (spec §13.2): name = property path, reason = .NET-style message.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { type FieldError, ValidationError } from '../errors.ts';

const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: false, useDefaults: false });
(addFormats as unknown as (a: Ajv) => void)(ajv);

const compiled = new WeakMap<TSchema, ValidateFunction>();

function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

function fieldName(error: ErrorObject): string {
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'required') path.push((error.params as { missingProperty: string }).missingProperty);
  const name = path.map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`)).join('');
  return name || 'body';
}

function reasonFor(error: ErrorObject, name: string): string {
  const field = pascal(
    name
      .split(/[.[\]]/)
      .filter(Boolean)
      .pop() ?? name,
  );
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `The ${field} field is required.`;
    case 'pattern':
      return `The field ${field} must match the regular expression '${p.pattern}'.`;
    case 'minLength':
      return `The field ${field} must be a string with a minimum length of '${p.limit}'.`;
    case 'maxLength':
      return `The field ${field} must be a string with a maximum length of '${p.limit}'.`;
    case 'minItems':
      return `The field ${field} must be an array with a minimum length of '${p.limit}'.`;
    case 'maxItems':
      return `The field ${field} must be an array with a maximum length of '${p.limit}'.`;
    case 'minimum':
    case 'maximum':
      return `The field ${field} must be ${error.keyword === 'minimum' ? '>=' : '<='} ${p.limit}.`;
    case 'type':
      return `The JSON value could not be converted to ${p.type}.`;
    case 'enum':
      return `The field ${field} must be one of: ${(p.allowedValues as unknown[]).join(', ')}.`;
    case 'const':
      return `The field ${field} must be ${JSON.stringify(p.allowedValue)}.`;
    case 'format':
      return `The field ${field} must be a valid ${p.format}.`;
    case 'maxProperties':
      return `The field ${field} must have at most ${p.limit} properties.`;
    default:
      return `The field ${field} is invalid: ${error.message ?? error.keyword}.`;
  }
}

/** Keeps the most useful error per field: anyOf/oneOf noise goes, the first concrete rule stays. */
function toFieldErrors(errors: ErrorObject[]): FieldError[] {
  const byName = new Map<string, FieldError>();
  for (const error of errors) {
    if (error.keyword === 'anyOf' || error.keyword === 'oneOf' || error.keyword === 'if') continue;
    const name = fieldName(error);
    if (!byName.has(name)) byName.set(name, { name, reason: reasonFor(error, name) });
  }
  return [...byName.values()];
}

export function validatorFor<S extends TSchema>(schema: S): (value: unknown) => FieldError[] {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  const fn = validate;
  return (value) => (fn(value) ? [] : toFieldErrors(fn.errors ?? []));
}

/** Validates and narrows, or throws the 400 ValidationError. */
export function validate<S extends TSchema>(schema: S, value: unknown): Static<S> {
  const errors = validatorFor(schema)(value);
  if (errors.length > 0) throw new ValidationError(errors);
  return value as Static<S>;
}
