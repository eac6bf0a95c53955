/**
 * Compile-time checks of `definePlugin`'s options where they are literals: a `priority` outside 0..100 (or
 * not an integer) and a `depends` entry that is not a module name fail to compile, with the rule as the
 * name of the property the compiler says is missing. Values the compiler only knows as `number` or
 * `string` are checked at run time, as before.
 */
/** Builds the union 0 | 1 | ... | N-1. */
type Below<N extends number, Seen extends number[] = []> = Seen['length'] extends N ? Seen[number] : Below<N, [...Seen, Seen['length']]>;

/** The priorities a plugin may have. */
export type Priority = Below<101>;

/** The characters of a string, as a union. */
type CharsOf<S extends string, Seen = never> = S extends `${infer C}${infer Rest}` ? CharsOf<Rest, Seen | C> : Seen;
type NameChar = CharsOf<'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.$'>;

/** True when every character of `S` may be in a module name. */
type AllNameChars<S extends string> = S extends '' ? true : S extends `${infer C}${infer Rest}` ? (C extends NameChar ? AllNameChars<Rest> : false) : false;

/** Per member of a union: true for a literal module name, or for `string` (known only at run time). */
type EachModuleName<S> = S extends string ? (string extends S ? true : S extends '' ? false : AllNameChars<S>) : false;

/** The property the compiler asks for when a literal priority is out of range. */
export type PriorityRule = 'extpoint: priority must be an integer from 0 to 100 (lower runs first)';
/** The property the compiler asks for when a literal `depends` entry is not a module name. */
export type DependsRule = 'extpoint: each depends entry must be a module name (1 to 255 letters, digits, _ - . $)';

type CheckPriority<P> = [P] extends [undefined] ? unknown : number extends P ? unknown : [P] extends [Priority | undefined] ? unknown : { [K in PriorityRule]: never };

type CheckDepends<D> = D extends readonly unknown[] ? (false extends EachModuleName<D[number]> ? { [K in DependsRule]: never } : unknown) : unknown;

/**
 * `definePlugin`'s options, `O` as written, with a required property named after the rule it breaks when a
 * literal value breaks one (so the compiler's message names the rule).
 */
export type CheckedOptions<O extends { priority?: unknown; depends?: unknown }> = O & CheckPriority<O['priority']> & CheckDepends<O['depends']>;
