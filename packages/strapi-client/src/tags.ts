/** `type:<pluralApiId>`: carried by list results (and by default by single types). */
export const typeTag = (type: string): string => `type:${type}`;
/** `doc:<pluralApiId>:<documentId>`: carried by every result containing that document. */
export const docTag = (type: string, documentId: string): string => `doc:${type}:${documentId}`;
