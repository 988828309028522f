/**
 * The VirtualService spec as meshproof reads it (istio/api networking/v1alpha3/virtual_service.proto).
 * Field names and values are kept as written; what an unset field means is semantics
 * (see resources.ts). Fields only validation reads (rewrite, redirect, CORS, …) are typed too, so
 * the checks in semantics/ read a typed shape rather than raw YAML.
 */

export interface StringMatch {
  readonly exact?: string;
  readonly prefix?: string;
  readonly regex?: string;
}

export interface HttpMatchRequest {
  readonly name?: string;
  readonly uri?: StringMatch;
  readonly scheme?: StringMatch;
  readonly method?: StringMatch;
  readonly authority?: StringMatch;
  readonly headers?: Readonly<Record<string, StringMatch>>;
  readonly withoutHeaders?: Readonly<Record<string, StringMatch>>;
  readonly queryParams?: Readonly<Record<string, StringMatch>>;
  readonly port?: number;
  readonly ignoreUriCase?: boolean;
  readonly sourceLabels?: Readonly<Record<string, string>>;
  readonly sourceNamespace?: string;
  readonly gateways?: readonly string[];
  readonly statPrefix?: string;
}

export interface HttpRetry {
  readonly attempts?: number;
  readonly perTryTimeout?: string;
  readonly retryOn?: string;
  readonly retryRemoteLocalities?: boolean;
  readonly retryIgnorePreviousHosts?: boolean;
  readonly backoff?: string;
}

export interface Percent {
  readonly value?: number;
}

export interface HttpFaultInjection {
  readonly delay?: { readonly fixedDelay?: string; readonly exponentialDelay?: string; readonly percentage?: Percent; readonly percent?: number };
  readonly abort?: { readonly httpStatus?: number; readonly grpcStatus?: string; readonly http2Error?: string; readonly percentage?: Percent };
}

export interface Destination {
  readonly host: string;
  readonly subset?: string;
  readonly port?: { readonly number?: number };
}

export interface HeaderOperations {
  readonly request?: { readonly set?: Readonly<Record<string, string>>; readonly add?: Readonly<Record<string, string>>; readonly remove?: readonly string[] };
  readonly response?: { readonly set?: Readonly<Record<string, string>>; readonly add?: Readonly<Record<string, string>>; readonly remove?: readonly string[] };
}

export interface HttpRouteDestination {
  readonly destination: Destination;
  readonly weight?: number;
  readonly headers?: HeaderOperations;
}

export interface HttpRoute {
  readonly name?: string;
  readonly match?: readonly HttpMatchRequest[];
  readonly route?: readonly HttpRouteDestination[];
  readonly timeout?: string;
  readonly retries?: HttpRetry;
  readonly fault?: HttpFaultInjection;
  readonly delegate?: { readonly name?: string; readonly namespace?: string };
  readonly redirect?: { readonly uri?: string; readonly authority?: string; readonly port?: number; readonly derivePort?: string; readonly scheme?: string; readonly redirectCode?: number };
  readonly directResponse?: { readonly status?: number; readonly body?: { readonly string?: string; readonly bytes?: string } };
  readonly rewrite?: { readonly uri?: string; readonly authority?: string; readonly uriRegexRewrite?: { readonly match?: string; readonly rewrite?: string } };
  readonly headers?: HeaderOperations;
  readonly corsPolicy?: {
    readonly allowOrigins?: readonly StringMatch[];
    readonly allowMethods?: readonly string[];
    readonly allowHeaders?: readonly string[];
    readonly exposeHeaders?: readonly string[];
    readonly maxAge?: string;
  };
  readonly mirror?: Destination;
  readonly mirrors?: readonly { readonly destination?: Destination; readonly percentage?: Percent }[];
  readonly mirrorPercent?: number;
  readonly mirror_percent?: number;
  readonly mirrorPercentage?: Percent;
}

export interface L4MatchAttributes {
  readonly destinationSubnets?: readonly string[];
  readonly port?: number;
  readonly sourceLabels?: Readonly<Record<string, string>>;
  readonly gateways?: readonly string[];
  readonly sourceNamespace?: string;
}

export interface TlsMatchAttributes extends L4MatchAttributes {
  readonly sniHosts?: readonly string[];
}

export interface RouteDestination {
  readonly destination: Destination;
  readonly weight?: number;
}

export interface TcpRoute {
  readonly match?: readonly L4MatchAttributes[];
  readonly route?: readonly RouteDestination[];
}

export interface TlsRoute {
  readonly match?: readonly TlsMatchAttributes[];
  readonly route?: readonly RouteDestination[];
}

export interface VirtualServiceSpec {
  /** Absent or empty: a delegate VirtualService, reached only through another's `delegate`. */
  readonly hosts?: readonly string[];
  readonly gateways?: readonly string[];
  readonly http?: readonly HttpRoute[];
  readonly tcp?: readonly TcpRoute[];
  readonly tls?: readonly TlsRoute[];
  readonly exportTo?: readonly string[];
}
