/*
 * guc.h: the extension's settings (guc.c defines them all in _PG_init).
 */
#ifndef AI_GUC_H
#define AI_GUC_H

extern char *ai_model_dir;
extern char *ai_openai_base_url;
extern char *ai_openai_api_key;
extern char *ai_voyage_api_key;
extern char *ai_ollama_host;
extern char *ai_allowed_base_urls;

extern void _PG_init(void);

#endif							/* AI_GUC_H */
