// Every provider k3sctl has, one per kind it writes. This list is the registry: the engine undoes a
// journal entry through the provider of its type, and workflows order creates and deletes by the
// providers' dependencies. A new kind is a provider module plus one line here.
import { autoScalingGroupProvider } from './autoScalingGroup';
import { certificateProvider } from './certificate';
import { elbTagsProvider } from './elbTags';
import { groupReplacementProvider } from './groupReplacement';
import { iamRoleProvider } from './iamRole';
import { instanceProvider } from './instance';
import { instanceProfileProvider } from './instanceProfile';
import { launchTemplateProvider } from './launchTemplate';
import { groupLaunchTemplateVersionProvider } from './launchTemplateVersion';
import { listenerProvider } from './listener';
import { listenerRuleProvider } from './listenerRule';
import { loadBalancerProvider } from './loadBalancer';
import { recordSetProvider } from './recordSet';
import { securityGroupProvider } from './securityGroup';
import { ssmClusterPathProvider, ssmParameterProvider } from './ssmParameter';
import { targetGroupAttachmentProvider, targetGroupProvider } from './targetGroup';
import { ProviderRegistry } from '../provider/provider';

export const providers = new ProviderRegistry([
  autoScalingGroupProvider,
  certificateProvider,
  elbTagsProvider,
  groupReplacementProvider,
  iamRoleProvider,
  instanceProvider,
  instanceProfileProvider,
  launchTemplateProvider,
  groupLaunchTemplateVersionProvider,
  listenerProvider,
  listenerRuleProvider,
  loadBalancerProvider,
  recordSetProvider,
  securityGroupProvider,
  ssmClusterPathProvider,
  ssmParameterProvider,
  targetGroupAttachmentProvider,
  targetGroupProvider,
]);
