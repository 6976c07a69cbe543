# Records torch.optim.AdamW (decoupled weight decay) on a fixed loss; output saved as adamw-golden.json.
# lr 5e-2 and weight decay 0.5 make the decay visible in the first digits (LoRA uses 5e-4 and 1e-2).
# Run: /usr/bin/python3 adamw-golden.py > adamw-golden.json
import torch, json
p = torch.tensor([0.5, -1.25, 2.0, 0.0, 3.5], dtype=torch.float32, requires_grad=True)
opt = torch.optim.AdamW([p], lr=0.05, weight_decay=0.5)
out = []
for t in range(1, 6):
    opt.zero_grad()
    loss = (p ** 2 * torch.tensor([1.0, 2.0, 0.5, 3.0, 0.1])).sum() + torch.sin(p).sum()
    loss.backward()
    grads = p.grad.detach().clone().tolist()
    opt.step()
    out.append({"grad": grads, "param": p.detach().clone().tolist()})
print(json.dumps(out))
