// The decoded shapes of the Envoy messages we read and write, as @grpc/proto-loader produces them
// (keepCase, oneofs, enums as strings, defaults off — absent fields are undefined). Only the
// fields this service touches are typed; Envoy sends more and they are ignored.

/** envoy.config.core.v3.HeaderValue — Envoy ≥1.28 fills raw_value (bytes), older ones value. */
export interface HeaderValue {
  key: string;
  value?: string;
  raw_value?: Buffer;
}

export interface HeaderMap {
  headers?: HeaderValue[];
}

export interface HttpHeaders {
  headers?: HeaderMap;
  end_of_stream?: boolean;
}

export interface HttpBody {
  body?: Buffer;
  end_of_stream?: boolean;
}

/** google.protobuf.Struct as decoded without `json: true`: tagged values. */
export interface StructValue {
  nullValue?: string;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: Struct;
  listValue?: { values?: StructValue[] };
  kind?: string;
}

export interface Struct {
  fields?: Record<string, StructValue>;
}

export interface ProcessingRequest {
  request?:
    | 'request_headers'
    | 'response_headers'
    | 'request_body'
    | 'response_body'
    | 'request_trailers'
    | 'response_trailers';
  request_headers?: HttpHeaders;
  response_headers?: HttpHeaders;
  request_body?: HttpBody;
  response_body?: HttpBody;
  request_trailers?: { trailers?: HeaderMap };
  response_trailers?: { trailers?: HeaderMap };
  /** Keyed by filter name (envoy.filters.http.ext_proc), values keyed by attribute name. */
  attributes?: Record<string, Struct>;
  observability_mode?: boolean;
}

export interface HeaderValueOption {
  header: { key: string; value?: string; raw_value?: Buffer };
  append_action?: 'APPEND_IF_EXISTS_OR_ADD' | 'ADD_IF_ABSENT' | 'OVERWRITE_IF_EXISTS_OR_ADD' | 'OVERWRITE_IF_EXISTS';
}

export interface CommonResponse {
  header_mutation?: { set_headers?: HeaderValueOption[]; remove_headers?: string[] };
}

export interface ProcessingMode {
  request_header_mode?: 'DEFAULT' | 'SEND' | 'SKIP';
  response_header_mode?: 'DEFAULT' | 'SEND' | 'SKIP';
  request_body_mode?: 'NONE' | 'STREAMED' | 'BUFFERED' | 'BUFFERED_PARTIAL';
  response_body_mode?: 'NONE' | 'STREAMED' | 'BUFFERED' | 'BUFFERED_PARTIAL';
  request_trailer_mode?: 'DEFAULT' | 'SEND' | 'SKIP';
  response_trailer_mode?: 'DEFAULT' | 'SEND' | 'SKIP';
}

export interface ProcessingResponse {
  request_headers?: { response?: CommonResponse };
  response_headers?: { response?: CommonResponse };
  request_body?: { response?: CommonResponse };
  response_body?: { response?: CommonResponse };
  request_trailers?: Record<string, never>;
  response_trailers?: Record<string, never>;
  dynamic_metadata?: Struct;
  mode_override?: ProcessingMode;
}

/** envoy.service.auth.v3.CheckRequest, the parts we read. */
export interface CheckRequest {
  attributes?: {
    source?: { address?: { socket_address?: { address?: string; port_value?: number } } };
    request?: {
      http?: {
        id?: string;
        method?: string;
        headers?: Record<string, string>;
        path?: string;
        host?: string;
        scheme?: string;
        size?: string;
        protocol?: string;
        body?: string;
        raw_body?: Buffer;
      };
    };
    context_extensions?: Record<string, string>;
  };
}

export interface CheckResponse {
  status: { code: number; message?: string };
  ok_response?: { headers?: HeaderValueOption[]; headers_to_remove?: string[] };
  denied_response?: { status: { code: number | string }; headers?: HeaderValueOption[]; body?: string };
  dynamic_metadata?: Struct;
}
