// A parsed JSON value. Objects keep their keys in document order, so validation can name the
// first unknown key deterministically.

export enum JsonKind {
  Null = 0,
  Bool = 1,
  Number = 2,
  String = 3,
  Array = 4,
  Object = 5,
}

export const JSON_KIND_NAMES: string[] = ['null', 'boolean', 'number', 'string', 'array', 'object'];

export class JsonValue {
  kind: JsonKind = JsonKind.Null;
  bool: bool = false;
  num: f64 = 0;
  /** A string's value, or a number as written in the document. */
  str: string = '';
  /** Array items, or object values (parallel to `keys`). */
  items: JsonValue[] = [];
  keys: string[] = [];

  constructor(kind: JsonKind) {
    this.kind = kind;
  }

  /** An object member by key (the last one when a key repeats), or null. */
  get(key: string): JsonValue | null {
    for (let i = this.keys.length - 1; i >= 0; i--) if (this.keys[i] == key) return this.items[i];
    return null;
  }

  kindName(): string {
    return JSON_KIND_NAMES[this.kind];
  }
}
