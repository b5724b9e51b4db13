/** Provider buttons into the engine's {type, text, value?}, from Optiwe's manual and Graph's shapes. */
import { describe, expect, it } from 'vitest';
import { parseMetaListTemplatesResponse } from '../../src/providers/meta/index.js';
import { parseOptiweListTemplatesResponse } from '../../src/providers/optiwe/index.js';
import * as manual from '../../src/providers/optiwe/manual-examples.js';
import { toTemplateButtons } from '../../src/templates/template-buttons.js';

describe('toTemplateButtons', () => {
  it('reads Optiwe\'s list example, keeping the trailing space Optiwe matches on', () => {
    const listing = parseOptiweListTemplatesResponse({ status: 200, headers: {}, body: manual.LIST_200_BODY });
    if (!listing.ok) throw new Error('the manual example did not parse');
    expect(toTemplateButtons(listing.templates[0]?.buttons ?? [])).toEqual([{ type: 'URL', text: 'Nuestra web ', value: 'https://optiwe.com/es/' }]);
  });

  it('keeps Optiwe\'s order, and a quick reply carries no value even with the manual\'s stray url', () => {
    expect(toTemplateButtons(manual.CREATE_CALL_TO_ACTION_REQUEST.buttons)).toEqual([
      { type: 'URL', text: 'Nuestra web', value: 'https://example.com/{{1}}' },
      { type: 'PHONE_NUMBER', text: 'Llamanos', value: '543424010203' },
    ]);
    expect(toTemplateButtons(manual.CREATE_QUICK_REPLY_REQUEST.buttons)).toEqual([{ type: 'QUICK_REPLY', text: 'Responder' }]);
  });

  it('reads Graph\'s buttons (url, phone_number) and leaves out kinds the engine has none for', () => {
    const body = JSON.stringify({
      data: [
        {
          name: 'oferta',
          language: 'es_AR',
          status: 'APPROVED',
          components: [
            { type: 'BODY', text: 'Tu código {{1}}' },
            {
              type: 'BUTTONS',
              buttons: [
                { type: 'COPY_CODE', example: ['ABC123'] },
                { type: 'PHONE_NUMBER', text: 'Llamar', phone_number: '+5491155174499' },
                { type: 'URL', text: 'Ver', url: 'https://shop.example/{{1}}', example: ['https://shop.example/a'] },
              ],
            },
          ],
        },
      ],
    });
    const listing = parseMetaListTemplatesResponse({ status: 200, headers: {}, body });
    if (!listing.ok) throw new Error('the Graph page did not parse');
    expect(toTemplateButtons(listing.templates[0]?.buttons ?? [])).toEqual([
      { type: 'PHONE_NUMBER', text: 'Llamar', value: '+5491155174499' },
      { type: 'URL', text: 'Ver', value: 'https://shop.example/{{1}}' },
    ]);
  });
});
