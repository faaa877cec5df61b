/**
 * The Userinfo API (platform-guidelines §13.3): the profile data a customer consented to share in a
 * payment with `profile.scope`, fetched with the `sub` from `GET payment` (`profile.sub`). Available for
 * 168 hours after consent; fetch it right away and keep only what you need.
 */
import { type CallOptions, msnOption } from './epayment.ts';
import type { Userinfo } from './generated/types.ts';
import type { RequestExecutor } from './requestExecutor.ts';

export class UserinfoApi {
  #executor: RequestExecutor;

  constructor(executor: RequestExecutor) {
    this.#executor = executor;
  }

  /**
   * `GET /vipps-userinfo-api/userinfo/{sub}` with the merchant's token. The subscription key is sent
   * (open question 21: the current spec requires it).
   */
  async get(sub: string, options: CallOptions = {}): Promise<Userinfo> {
    const { data } = await this.#executor.call<Userinfo>({
      operation: 'getUserinfo',
      method: 'GET',
      endpoint: '/vipps-userinfo-api/userinfo/{sub}',
      params: { sub },
      ...msnOption(options),
    });
    return data;
  }
}
