import { CreateSecurityGroupCommand, DescribeSubnetsCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DeleteRuleCommand,
  RemoveTagsCommand,
  DeleteTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ModifyRuleCommand,
  ModifyTargetGroupAttributesCommand,
  DescribeTargetGroupAttributesCommand,
  RegisterTargetsCommand,
  SetRulePrioritiesCommand,
  AddTagsCommand,
  DescribeTagsCommand,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  RequestCertificateCommand,
  DescribeCertificateCommand,
  DeleteCertificateCommand,
} from '@aws-sdk/client-acm';
import { Sandbox, type SandboxBehavior } from '../../src/sandbox/sandbox';
import { sandboxClients } from '../../src/sandbox/clients';
import { DEFAULT_IMAGES } from '../../src/sandbox/defaults';
import type { AwsClients } from '../../src/aws/clients';

const timings = {
  albProvisioningMs: 90_000,
  targetHealthyMs: 30_000,
  deregistrationMs: 10_000,
  instanceBootMs: 35_000,
};

async function setup(behavior: Partial<SandboxBehavior> = {}) {
  const sb = new Sandbox({ behavior });
  const c = sandboxClients(sb, 'us-east-1');
  const subnets = (await c.ec2.send(new DescribeSubnetsCommand({}))).Subnets ?? [];
  const byZone = new Map(subnets.map((s) => [s.AvailabilityZone as string, s]));
  const two = [...byZone.values()].slice(0, 2);
  const vpcId = two[0].VpcId as string;
  const lb = (
    await c.elbv2.send(
      new CreateLoadBalancerCommand({
        Name: 'shared',
        Subnets: two.map((s) => s.SubnetId as string),
        Tags: [{ Key: 'k3sctl.io/shared', Value: 'shared' }],
      }),
    )
  ).LoadBalancers![0];
  return { sb, c, subnets: two, vpcId, lbArn: lb.LoadBalancerArn as string, lb };
}

async function targetGroup(c: AwsClients, vpcId: string, name: string): Promise<string> {
  const out = await c.elbv2.send(
    new CreateTargetGroupCommand({
      Name: name,
      Protocol: 'HTTP',
      Port: 80,
      VpcId: vpcId,
      TargetType: 'instance',
    }),
  );
  return out.TargetGroups![0].TargetGroupArn as string;
}

async function httpListener(c: AwsClients, lbArn: string, tgArn: string): Promise<string> {
  const out = await c.elbv2.send(
    new CreateListenerCommand({
      LoadBalancerArn: lbArn,
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: tgArn }],
    }),
  );
  return out.Listeners![0].ListenerArn as string;
}

async function allRules(c: AwsClients, listenerArn: string): Promise<{ rules: Rule[]; pages: number }> {
  const rules: Rule[] = [];
  let marker: string | undefined;
  let pages = 0;
  do {
    const out = await c.elbv2.send(new DescribeRulesCommand({ ListenerArn: listenerArn, Marker: marker }));
    rules.push(...(out.Rules ?? []));
    marker = out.NextMarker;
    pages++;
  } while (marker);
  return { rules, pages };
}

const hostRule = (host: string) => [{ Field: 'host-header', HostHeaderConfig: { Values: [host] } }];

describe('sandbox ELBv2', () => {
  it('creates an ALB in two zones that becomes active, and refuses a single zone', async () => {
    const { sb, c, subnets, lbArn, lb } = await setup({ timings: timings as SandboxBehavior['timings'] });
    expect(lbArn).toMatch(
      /^arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer\/app\/shared\/[0-9a-f]{16}$/,
    );
    expect(lb.DNSName).toMatch(/^shared-\d+\.us-east-1\.elb\.amazonaws\.com$/);
    expect(lb.CanonicalHostedZoneId).toBe('Z35SXDOTRQ7X7K');
    expect(lb.State?.Code).toBe('provisioning');
    await expect(
      c.elbv2.send(
        new CreateLoadBalancerCommand({ Name: 'one-zone', Subnets: [subnets[0].SubnetId as string] }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(
      c.elbv2.send(
        new CreateLoadBalancerCommand({
          Name: 'bad-sg',
          Subnets: subnets.map((s) => s.SubnetId as string),
          SecurityGroups: ['sg-0123456789abcdef0'],
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidSecurityGroupException' });
    const sg = await c.ec2.send(
      new CreateSecurityGroupCommand({ GroupName: 'alb', Description: 'alb', VpcId: subnets[0].VpcId }),
    );
    const withSg = await c.elbv2.send(
      new CreateLoadBalancerCommand({
        Name: 'with-sg',
        Subnets: subnets.map((s) => s.SubnetId as string),
        SecurityGroups: [sg.GroupId as string],
      }),
    );
    expect(withSg.LoadBalancers?.[0].SecurityGroups).toEqual([sg.GroupId]);
    sb.advance(90_000);
    const described = await c.elbv2.send(new DescribeLoadBalancersCommand({ Names: ['shared'] }));
    expect(described.LoadBalancers?.[0].State?.Code).toBe('active');
    // Dates come back as Date objects (structuredClone crosses Jest's realm, so no instanceof).
    expect(described.LoadBalancers?.[0].CreatedTime?.toISOString()).toBe(lb.CreatedTime?.toISOString());
    expect(lb.CreatedTime!.getTime()).toBeGreaterThan(Date.UTC(2026, 0, 1));
    await expect(c.elbv2.send(new DescribeLoadBalancersCommand({ Names: ['nope'] }))).rejects.toMatchObject({
      name: 'LoadBalancerNotFoundException',
    });
    const tags = await c.elbv2.send(new DescribeTagsCommand({ ResourceArns: [lbArn] }));
    expect(tags.TagDescriptions?.[0].Tags).toEqual([{ Key: 'k3sctl.io/shared', Value: 'shared' }]);
  });

  it('validates target group names, is idempotent on identical settings and pages DescribeTargetGroups', async () => {
    const { c, vpcId } = await setup();
    await expect(targetGroup(c, vpcId, 'a'.repeat(33))).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(targetGroup(c, vpcId, '-leading')).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(targetGroup(c, vpcId, 'under_score')).rejects.toMatchObject({ name: 'ValidationError' });
    const first = await targetGroup(c, vpcId, 'a'.repeat(32));
    expect(first).toMatch(/:targetgroup\/a{32}\/[0-9a-f]{16}$/);
    expect(await targetGroup(c, vpcId, 'a'.repeat(32))).toBe(first);
    await expect(
      c.elbv2.send(
        new CreateTargetGroupCommand({ Name: 'a'.repeat(32), Protocol: 'HTTP', Port: 8080, VpcId: vpcId }),
      ),
    ).rejects.toMatchObject({ name: 'DuplicateTargetGroupNameException' });
    for (let i = 0; i < 6; i++) await targetGroup(c, vpcId, `tg-${i}`);
    const page1 = await c.elbv2.send(new DescribeTargetGroupsCommand({}));
    expect(page1.TargetGroups).toHaveLength(5);
    const page2 = await c.elbv2.send(new DescribeTargetGroupsCommand({ Marker: page1.NextMarker }));
    expect(page2.TargetGroups).toHaveLength(2);
    expect(page2.NextMarker).toBeUndefined();
    const attrs = await c.elbv2.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: first,
        Attributes: [
          { Key: 'stickiness.enabled', Value: 'true' },
          { Key: 'deregistration_delay.timeout_seconds', Value: '30' },
        ],
      }),
    );
    expect(attrs.Attributes).toEqual(expect.arrayContaining([{ Key: 'stickiness.enabled', Value: 'true' }]));
    const read = await c.elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: first }));
    expect(read.Attributes).toEqual(
      expect.arrayContaining([{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }]),
    );
  });

  it('enforces listener rule priorities, weighted forward limits and the rule quota, and pages DescribeRules', async () => {
    const { c, vpcId, lbArn } = await setup();
    const tgs: string[] = [];
    for (let i = 0; i < 6; i++) tgs.push(await targetGroup(c, vpcId, `cluster-${i}`));
    await expect(
      c.elbv2.send(
        new CreateListenerCommand({
          LoadBalancerArn: lbArn,
          Protocol: 'HTTPS',
          Port: 443,
          DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationError' });
    const listener = await httpListener(c, lbArn, tgs[0]);

    const rule = await c.elbv2.send(
      new CreateRuleCommand({
        ListenerArn: listener,
        Priority: 10,
        Conditions: hostRule('*--alpha.us-east-1.example.com'),
        Actions: [{ Type: 'forward', TargetGroupArn: tgs[1] }],
      }),
    );
    expect(rule.Rules?.[0].RuleArn).toMatch(
      /:listener-rule\/app\/shared\/[0-9a-f]{16}\/[0-9a-f]{16}\/[0-9a-f]{16}$/,
    );
    expect(rule.Rules?.[0].Actions?.[0].ForwardConfig?.TargetGroups).toEqual([
      { TargetGroupArn: tgs[1], Weight: 1 },
    ]);
    await expect(
      c.elbv2.send(
        new CreateRuleCommand({
          ListenerArn: listener,
          Priority: 10,
          Conditions: hostRule('other.example.com'),
          Actions: [{ Type: 'forward', TargetGroupArn: tgs[2] }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'PriorityInUseException' });

    const weighted = (groups: string[], weight = 1) => [
      {
        Type: 'forward' as const,
        ForwardConfig: { TargetGroups: groups.map((TargetGroupArn) => ({ TargetGroupArn, Weight: weight })) },
      },
    ];
    await expect(
      c.elbv2.send(
        new CreateRuleCommand({
          ListenerArn: listener,
          Priority: 20,
          Conditions: hostRule('svc.example.com'),
          Actions: weighted(tgs),
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringMatching(/5 target groups/) });
    await expect(
      c.elbv2.send(
        new CreateRuleCommand({
          ListenerArn: listener,
          Priority: 20,
          Conditions: hostRule('svc.example.com'),
          Actions: weighted(tgs.slice(0, 2), 1000),
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringMatching(/between 0 and 999/) });
    const ok = await c.elbv2.send(
      new CreateRuleCommand({
        ListenerArn: listener,
        Priority: 20,
        Conditions: [{ Field: 'source-ip', SourceIpConfig: { Values: ['10.0.0.0/8'] } }],
        Actions: weighted(tgs.slice(1, 6), 999),
      }),
    );
    const weightedArn = ok.Rules![0].RuleArn as string;

    // Re-weighting and priority swaps.
    await c.elbv2.send(
      new ModifyRuleCommand({
        RuleArn: weightedArn,
        Actions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: tgs[1], Weight: 3 },
                { TargetGroupArn: tgs[2], Weight: 0 },
              ],
            },
          },
        ],
      }),
    );
    await c.elbv2.send(
      new SetRulePrioritiesCommand({
        RulePriorities: [
          { RuleArn: weightedArn, Priority: 10 },
          { RuleArn: rule.Rules![0].RuleArn, Priority: 20 },
        ],
      }),
    );
    const swapped = (await allRules(c, listener)).rules;
    expect(swapped.map((r) => [r.Priority, r.RuleArn])).toEqual([
      ['10', weightedArn],
      ['20', rule.Rules![0].RuleArn],
      ['default', expect.any(String)],
    ]);
    expect(swapped[0].Actions?.[0].ForwardConfig?.TargetGroups).toEqual([
      { TargetGroupArn: tgs[1], Weight: 3 },
      { TargetGroupArn: tgs[2], Weight: 0 },
    ]);
    await expect(c.elbv2.send(new DeleteRuleCommand({ RuleArn: swapped[2].RuleArn }))).rejects.toMatchObject({
      name: 'OperationNotPermittedException',
    });

    for (let p = 100; p < 198; p++) {
      await c.elbv2.send(
        new CreateRuleCommand({
          ListenerArn: listener,
          Priority: p,
          Conditions: hostRule(`h${p}.example.com`),
          Actions: [{ Type: 'forward', TargetGroupArn: tgs[3] }],
        }),
      );
    }
    await expect(
      c.elbv2.send(
        new CreateRuleCommand({
          ListenerArn: listener,
          Priority: 5000,
          Conditions: hostRule('one-too-many.example.com'),
          Actions: [{ Type: 'forward', TargetGroupArn: tgs[3] }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'TooManyRulesException' });
    const { rules, pages } = await allRules(c, listener);
    expect(rules).toHaveLength(101);
    expect(pages).toBe(21);
    expect(rules[100].IsDefault).toBe(true);
  });

  it('refuses to delete a target group in use until its rule and listener are gone', async () => {
    const { c, vpcId, lbArn } = await setup();
    const tgA = await targetGroup(c, vpcId, 'tg-a');
    const tgB = await targetGroup(c, vpcId, 'tg-b');
    const listener = await httpListener(c, lbArn, tgA);
    const rule = await c.elbv2.send(
      new CreateRuleCommand({
        ListenerArn: listener,
        Priority: 1,
        Conditions: hostRule('b.example.com'),
        Actions: [{ Type: 'forward', TargetGroupArn: tgB }],
      }),
    );
    await expect(c.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: tgB }))).rejects.toMatchObject({
      name: 'ResourceInUseException',
    });
    const byLb = await c.elbv2.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: lbArn }));
    expect(byLb.TargetGroups?.map((t) => t.TargetGroupName).sort()).toEqual(['tg-a', 'tg-b']);
    await c.elbv2.send(new DeleteRuleCommand({ RuleArn: rule.Rules![0].RuleArn }));
    await c.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: tgB }));
    await expect(c.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: tgA }))).rejects.toMatchObject({
      name: 'ResourceInUseException',
    });
    await c.elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lbArn }));
    await expect(
      c.elbv2.send(new DescribeListenersCommand({ ListenerArns: [listener] })),
    ).rejects.toMatchObject({ name: 'ListenerNotFoundException' });
    await c.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: tgA }));
    await expect(
      c.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tgA] })),
    ).rejects.toMatchObject({ name: 'TargetGroupNotFoundException' });
  });

  it('moves targets through unused, initial, healthy or unhealthy, and draining', async () => {
    const { sb, c, vpcId, lbArn, subnets } = await setup({
      timings: timings as SandboxBehavior['timings'],
      neverHealthy: [],
    });
    const run = await c.ec2.send(
      new RunInstancesCommand({
        ImageId: DEFAULT_IMAGES[0].ImageId,
        InstanceType: 't3.micro',
        MinCount: 2,
        MaxCount: 2,
        SubnetId: subnets[0].SubnetId,
      }),
    );
    const [good, bad] = run.Instances!.map((i) => i.InstanceId as string);
    sb.behavior.neverHealthy.push(bad);
    const tg = await targetGroup(c, vpcId, 'web');
    await c.elbv2.send(
      new RegisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: good }, { Id: bad }] }),
    );
    const health = async () =>
      Object.fromEntries(
        (
          (await c.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg })))
            .TargetHealthDescriptions ?? []
        ).map((d) => [d.Target?.Id, [d.TargetHealth?.State, d.TargetHealth?.Reason]]),
      );
    // No listener forwards to the group yet: unused, as a real ALB reports.
    expect(await health()).toEqual({
      [good]: ['unused', 'Target.NotInUse'],
      [bad]: ['unused', 'Target.NotInUse'],
    });
    await httpListener(c, lbArn, tg);
    sb.advance(60_000);
    expect((await health())[good][0]).toBe('unused'); // the ALB is still provisioning
    sb.advance(35_000);
    expect(await health()).toEqual({
      [good]: ['initial', 'Elb.InitialHealthChecking'],
      [bad]: ['initial', 'Elb.InitialHealthChecking'],
    });
    sb.advance(30_000);
    expect(await health()).toEqual({
      [good]: ['healthy', undefined],
      [bad]: ['unhealthy', 'Target.FailedHealthChecks'],
    });
    await c.elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: bad }] }));
    expect((await health())[bad]).toEqual(['draining', 'Target.DeregistrationInProgress']);
    // Draining lasts the target group's deregistration delay (300 s unless set), then the target is gone.
    sb.advance(290_000);
    expect((await health())[bad]).toEqual(['draining', 'Target.DeregistrationInProgress']);
    sb.advance(10_000);
    expect(await health()).toEqual({ [good]: ['healthy', undefined] });
    await expect(
      c.elbv2.send(
        new RegisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: 'i-0000000000000dead' }] }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidTargetException' });
  });

  it('requires an existing certificate for HTTPS and reports the listener in ACM InUseBy', async () => {
    const { c, vpcId, lbArn } = await setup();
    const tg = await targetGroup(c, vpcId, 'web');
    const missing = 'arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000000';
    await expect(
      c.elbv2.send(
        new CreateListenerCommand({
          LoadBalancerArn: lbArn,
          Protocol: 'HTTPS',
          Port: 443,
          Certificates: [{ CertificateArn: missing }],
          DefaultActions: [{ Type: 'forward', TargetGroupArn: tg }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'CertificateNotFoundException' });
    const cert = (
      await c.acm.send(new RequestCertificateCommand({ DomainName: 'example.com', ValidationMethod: 'DNS' }))
    ).CertificateArn as string;
    const listener = await c.elbv2.send(
      new CreateListenerCommand({
        LoadBalancerArn: lbArn,
        Protocol: 'HTTPS',
        Port: 443,
        Certificates: [{ CertificateArn: cert }],
        DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }],
      }),
    );
    const described = await c.acm.send(new DescribeCertificateCommand({ CertificateArn: cert }));
    expect(described.Certificate?.InUseBy).toEqual([listener.Listeners![0].ListenerArn]);
    await expect(c.acm.send(new DeleteCertificateCommand({ CertificateArn: cert }))).rejects.toMatchObject({
      name: 'ResourceInUseException',
    });
    await c.elbv2.send(
      new AddTagsCommand({
        ResourceArns: [listener.Listeners![0].ListenerArn as string],
        Tags: [{ Key: 'Name', Value: 'https' }],
      }),
    );
    await c.elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lbArn }));
    await c.acm.send(new DeleteCertificateCommand({ CertificateArn: cert }));
  });
  it('refuses a delete or tag removal without its required member before looking anything up', async () => {
    const { c, lbArn } = await setup();
    const code = (call: Promise<unknown>) =>
      call.then(
        () => 'succeeded',
        (e: { name: string; message: string }) => `${e.name}: ${e.message}`,
      );
    const nullAt = (field: string) =>
      `ValidationError: 1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`;
    expect(await code(c.elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: undefined })))).toBe(
      nullAt('loadBalancerArn'),
    );
    expect(await code(c.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: undefined })))).toBe(
      nullAt('targetGroupArn'),
    );
    expect(await code(c.elbv2.send(new DeleteListenerCommand({ ListenerArn: undefined })))).toBe(
      nullAt('listenerArn'),
    );
    expect(await code(c.elbv2.send(new DeleteRuleCommand({ RuleArn: undefined })))).toBe(nullAt('ruleArn'));
    expect(await code(c.elbv2.send(new RemoveTagsCommand({ ResourceArns: [lbArn], TagKeys: [] })))).toBe(
      nullAt('tagKeys'),
    );
    // An ARN that names nothing is still an idempotent delete of a load balancer or target group.
    expect(
      await code(
        c.elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: `${lbArn.slice(0, -4)}0000` })),
      ),
    ).toBe('succeeded');
  });
});
