import { JsonType, type Platform, type TransformContext } from '@mikro-orm/core';

/**
 * JSON columns that read back as objects on every database. MariaDB stores JSON as LONGTEXT, so
 * the mysql driver hands back a string that MikroORM (expecting MySQL to parse JSON) passes on.
 */
export class PortableJson extends JsonType {
  override convertToJSValue(value: unknown, platform: Platform, context?: TransformContext): unknown {
    return typeof value === 'string' ? platform.convertJsonToJSValue(value, context) : value;
  }
}
