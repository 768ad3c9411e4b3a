// Counts the AWS calls of one run, split into reads and writes, for the `apiCalls` figure of the
// JSON contract and for the benchmarks.

// `Simulate`: IAM's policy simulator (SimulatePrincipalPolicy) evaluates policies and changes nothing.
const READ_PREFIXES = ['Describe', 'List', 'Get', 'Lookup', 'Search', 'Test', 'Simulate'];

/** True when an API operation (e.g. `DescribeInstances`, `GetParametersByPath`) only reads. */
export function isReadOperation(operation: string): boolean {
  return READ_PREFIXES.some((p) => operation.startsWith(p));
}

export class ApiCallCounter {
  read = 0;
  write = 0;
  readonly byOperation = new Map<string, number>();

  record(operation: string): void {
    if (isReadOperation(operation)) this.read++;
    else this.write++;
    this.byOperation.set(operation, (this.byOperation.get(operation) ?? 0) + 1);
  }

  snapshot(): { read: number; write: number } {
    return { read: this.read, write: this.write };
  }
}
