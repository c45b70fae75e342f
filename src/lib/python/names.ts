/**
 * PEP 503 normalised distribution name: how Python packaging compares names (`Foo_Bar`,
 * `foo.bar` and `foo-bar` are one distribution). The one copy of the rule in the core; plugins,
 * which cannot import the core at run time, keep one documented copy each.
 */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}
