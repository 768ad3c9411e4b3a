// K3SCTL_SANDBOX_BEHAVIOR as the kit reads it: a JSON object of SandboxBehavior keys and realCallDelayMs.
import { parseSandboxBehavior } from '../../../src/cli/setup/sandboxBehavior';

describe('parseSandboxBehavior', () => {
  it('reads nothing from an empty value', () => {
    expect(parseSandboxBehavior(undefined)).toEqual({ realCallDelayMs: 0 });
    expect(parseSandboxBehavior('  ')).toEqual({ realCallDelayMs: 0 });
  });

  it('splits the delay from the behaviour', () => {
    expect(parseSandboxBehavior('{"realCallDelayMs":50,"neverHealthy":["*"],"timings":{"instanceBootMs":90000}}')).toEqual({
      behavior: { neverHealthy: ['*'], timings: { instanceBootMs: 90000 } },
      realCallDelayMs: 50,
    });
  });

  it('rejects what is not a behaviour, naming the variable', () => {
    expect(() => parseSandboxBehavior('{')).toThrow(/K3SCTL_SANDBOX_BEHAVIOR is not JSON/);
    expect(() => parseSandboxBehavior('[]')).toThrow('K3SCTL_SANDBOX_BEHAVIOR must be a JSON object');
    expect(() => parseSandboxBehavior('{"nope":1}')).toThrow('K3SCTL_SANDBOX_BEHAVIOR: unknown key(s) nope');
    expect(() => parseSandboxBehavior('{"realCallDelayMs":-1}')).toThrow(/realCallDelayMs must be a number/);
    expect(() => parseSandboxBehavior('{"realCallDelayMs":60001}')).toThrow(/realCallDelayMs must be a number/);
    expect(() => parseSandboxBehavior('{"timings":3}')).toThrow(/timings must be an object/);
  });
});
