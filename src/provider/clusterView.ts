// The cluster as the providers see it: what a kind needs to contribute its tasks to the runs that
// converge a cluster (cluster create; controlplane / nodegroup add and nodegroup scale, for the groups
// they converge). src/model builds it from the stored cluster with every derived value already derived
// (user data rendered, security groups checked, the declaration serialised); a provider reads it and
// returns tasks (Provider.clusterTasks). Plain data, so that no provider knows the model.

/** One parameter of the declaration the model stores (its serialised settings, or one group's). */
export interface DeclarationParameter {
  /** `settings`: the cluster's own (its creation creates the cluster); `group`: one group's declaration. */
  part: 'settings' | 'group';
  /** The group it declares (`part: 'group'`). */
  group?: string;
  name: string;
  /** The serialised declaration (at most 4096 characters: the model checks it). */
  value: string;
  /** Whether a stored value declares the same (the model parses it); false rewrites it. */
  sameAs(stored: string): boolean;
  description: string;
}

export interface IngressAlbView {
  albName: string;
  listenerArn: string;
  /** The cluster's target group on this ALB. */
  targetGroupName: string;
  /** The name plans and journals give the cluster's rule on this ALB. */
  ruleName: string;
}

export interface IngressView {
  /** The rules' host header: `*--NAME.REGION.ZONE`. */
  host: string;
  /** The rules' `source-ip` values (empty: any client). */
  sourceCidrs: string[];
  /** deregistration_delay.timeout_seconds of the target groups; undefined: left as it is. */
  deregistrationDelaySeconds?: number;
  albs: IngressAlbView[];
}

export interface GroupView {
  name: string;
  role: 'control-plane' | 'node';
  count: number;
  imageId: string;
  instanceType: string;
  subnetIds: string[];
  spot: boolean;
  rootDeviceName: string;
  rootVolumeSize: number;
  rootVolumeType: string;
  imdsHopLimit: number;
  cpuCredits?: 'standard' | 'unlimited';
  /** The user's security groups the instances join besides the cluster's and the ingress ones. */
  extraSecurityGroupIds: string[];
  /** The user's target groups the group registers its instances in. */
  targetGroupArns: string[];
  /** The instances' user data (base64), rendered from the model. */
  userDataBase64: string;
}

export interface ClusterView {
  name: string;
  region: string;
  vpcId: string;
  keyName?: string;
  sshCidrs: string[];
  apiCidrs: string[];
  /** The declaration parameters this run writes (the settings, and the groups it converges). */
  declaration: DeclarationParameter[];
  ingress?: IngressView;
  /** The ALBs' downstream security groups, which every instance joins. */
  ingressSecurityGroupIds: string[];
  /** The groups this run converges: every group for cluster create, one for nodegroup add / scale. */
  groups: GroupView[];
  /** Target groups of the cluster's nodeport endpoints, attached to every group. */
  endpointTargetGroupArns: string[];
}
