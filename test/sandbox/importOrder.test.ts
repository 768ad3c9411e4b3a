import { getInstance } from '../../src/sandbox/services/ec2';
import { Sandbox } from '../../src/sandbox/sandbox';
it('imports a service module before the sandbox without a cycle error', () => {
  expect(typeof getInstance).toBe('function');
  expect(new Sandbox().inventory()).toEqual([]);
});
