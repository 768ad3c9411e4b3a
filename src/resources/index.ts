// Loads every resource module so their undo handlers are registered (rollback of crashed runs).
// Each resource module adds one import line here.
import './loadBalancer';
import './listener';
import './listenerRule';
import './targetGroup';
import './certificate';
import './recordSet';
import './securityGroupRule';
import './endpointConfig';
import './groupReplacement';
import './launchTemplateVersion';
import './iamRole';
import './instanceProfile';
import './securityGroup';
import './ssmParameter';
import './launchTemplate';
import './autoScalingGroup';
import './instance';
export {};
