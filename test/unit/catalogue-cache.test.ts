import { jest } from '@jest/globals';
import type { Notifications } from '../../src/db/notifications.js';
import { createCatalogueCache } from '../../src/services/catalogue-cache.js';
import type { ServiceRecord } from '../../src/services/repository.js';

/** Notifications driven by the test: announce a change, lose or regain the connection. */
function fakeNotifications() {
  let onMessage: (payload: string) => void = () => undefined;
  let onHearing: (hearing: boolean) => void = () => undefined;
  const notifications: Notifications = {
    async listen(_channel, message, hearing) {
      onMessage = message;
      onHearing = hearing;
      hearing(true);
      return async () => hearing(false);
    },
  };
  return { notifications, announce: (id: string) => onMessage(id), hearing: (now: boolean) => onHearing(now) };
}

const service = (id: string, version: number, disabled = false) => ({ id, name: `v${version}`, disabledAt: disabled ? new Date() : null }) as unknown as ServiceRecord;

describe('the catalogue cache', () => {
  it('reads a service once while changes are heard, again after its change is announced', async () => {
    const feed = fakeNotifications();
    const cache = await createCatalogueCache(feed.notifications);
    let version = 1;
    const read = jest.fn(async (id: string) => service(id, version));
    expect((await cache.find('a', read))?.name).toBe('v1');
    expect((await cache.find('a', read))?.name).toBe('v1');
    expect(read).toHaveBeenCalledTimes(1);
    version = 2;
    feed.announce('b');
    expect((await cache.find('a', read))?.name).toBe('v1');
    feed.announce('a');
    expect((await cache.find('a', read))?.name).toBe('v2');
    expect(read).toHaveBeenCalledTimes(2);
  });

  it('does not keep a read that an announcement overtook', async () => {
    const feed = fakeNotifications();
    const cache = await createCatalogueCache(feed.notifications);
    let version = 1;
    const read = jest.fn(async (id: string) => {
      const seen = service(id, version);
      // the change commits, and is announced, while this read's answer is on its way
      version = 2;
      feed.announce(id);
      return seen;
    });
    expect((await cache.find('a', read))?.name).toBe('v1');
    read.mockImplementation(async (id: string) => service(id, version));
    expect((await cache.find('a', read))?.name).toBe('v2');
  });

  it('keeps nothing while it cannot hear, and forgets everything when hearing stops or starts', async () => {
    const feed = fakeNotifications();
    const cache = await createCatalogueCache(feed.notifications);
    const read = jest.fn(async (id: string) => service(id, 1));
    await cache.find('a', read);
    feed.hearing(false);
    await cache.find('a', read);
    await cache.find('a', read);
    expect(read).toHaveBeenCalledTimes(3);
    feed.hearing(true);
    await cache.find('a', read);
    await cache.find('a', read);
    expect(read).toHaveBeenCalledTimes(4);
  });

  it('keeps neither a disabled service nor an unknown id, and nothing without notifications', async () => {
    const cache = await createCatalogueCache(fakeNotifications().notifications);
    const disabled = jest.fn(async (id: string) => service(id, 1, true));
    await cache.find('d', disabled);
    await cache.find('d', disabled);
    expect(disabled).toHaveBeenCalledTimes(2);
    const unknown = jest.fn(async () => undefined);
    await cache.find('x', unknown);
    await cache.find('x', unknown);
    expect(unknown).toHaveBeenCalledTimes(2);

    const deaf = await createCatalogueCache(undefined);
    const read = jest.fn(async (id: string) => service(id, 1));
    await deaf.find('a', read);
    await deaf.find('a', read);
    expect(read).toHaveBeenCalledTimes(2);
  });
});
