import { describe, expect, it } from 'vitest';
import { FOLD_STORED_WEIGHTS, mergeSessionOptions, providerOptions } from '../../src/model/onnx-session.js';

describe('session options', () => {
  it('leaves the CPU and an unset webgpu as onnxruntime has them', () => {
    expect(providerOptions('cpu', { SIGHTLINE_WEBGPU_VALIDATION: 'disabled' })).toEqual({ executionProviders: ['cpu'] });
    expect(providerOptions('webgpu', {})).toEqual({ executionProviders: ['webgpu'] });
  });

  it('passes the webgpu knobs as the provider option and the session config key onnxruntime reads', () => {
    const o = providerOptions('webgpu', { SIGHTLINE_WEBGPU_VALIDATION: 'disabled', SIGHTLINE_WEBGPU_PENDING: '256' });
    expect(o.executionProviders).toEqual([{ name: 'webgpu', validationMode: 'disabled' }]);
    expect(o.extra).toEqual({ ep: { webgpuexecutionprovider: { maxNumPendingDispatches: '256' } } });
  });

  it('merges two option sets without losing either side of `extra`', () => {
    const merged = mergeSessionOptions(providerOptions('webgpu', { SIGHTLINE_WEBGPU_PENDING: '64' }), { ...FOLD_STORED_WEIGHTS, preferredOutputLocation: 'gpu-buffer' });
    expect(merged.extra).toEqual({ ep: { webgpuexecutionprovider: { maxNumPendingDispatches: '64' } }, session: { disable_quant_qdq: '1' } });
    expect(merged.preferredOutputLocation).toBe('gpu-buffer');
    expect(merged.executionProviders).toEqual(['webgpu']);
  });
});
